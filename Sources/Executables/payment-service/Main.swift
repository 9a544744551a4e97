import Payment

/// payment-service: charges and refunds through the payment gateway, on port 8081 unless `ORDERLY_HTTP_PORT` says otherwise.
@main
struct Main {
    static func main() async throws {
        try await PaymentService.run()
    }
}
