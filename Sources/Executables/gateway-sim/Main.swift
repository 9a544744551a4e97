import GatewaySim
import ServiceKit

/// The payment-gateway simulator: `gateway` schema, port 8090 unless `ORDERLY_HTTP_PORT` says otherwise.
@main
struct Main {
    static func main() async throws {
        let settings = ServiceSettings(name: "gateway-sim", defaultPort: 8090)
        let schema = GatewaySimulator.defaultSchema
        try await ServiceRuntime.run(settings: settings, schema: schema, migrations: GatewaySimulator.migrations(schema: schema)) {
            try GatewaySimulator.build($0, router: $1, schema: schema)
        }
    }
}
