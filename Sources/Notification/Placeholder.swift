// Notification
