/// Which HTTP statuses of the gateway mean "try again later".
enum GatewayStatus {
    /// `408 Request Timeout`, `429 Too Many Requests` and every `5xx`.
    static func isTransient(_ status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }
}
