import AsyncHTTPClient

/// Whether a service on this machine says it is ready.
enum HealthCheck {
    /// Whether `GET http://127.0.0.1:PORT/health/ready` answers 200 within two seconds.
    static func isReady(port: Int) async -> Bool {
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/health/ready")
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return response.status == .ok
    }
}
