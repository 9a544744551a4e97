// Order
