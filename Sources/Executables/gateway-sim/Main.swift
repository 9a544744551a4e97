import GatewaySim

/// gateway-sim: the payment-gateway simulator, on port 8090 unless `ORDERLY_HTTP_PORT` says otherwise.
@main
struct Main {
    static func main() async throws {
        try await GatewaySimulator.run()
    }
}
