// Payment
