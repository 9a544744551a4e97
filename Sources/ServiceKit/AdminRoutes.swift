import Foundation
import Hummingbird

/// The administrative routes every service serves, behind its admin key (`ORDERLY_ADMIN_KEYS`).
package enum AdminRoutes {
    /// Adds `GET /v1/admin/settings`: what the service runs with, secrets left out.
    package static func add<Context: RequestContext>(to router: Router<Context>, settings: ServiceSettings) {
        let report = SettingsReport(settings)
        router.adminGroup(keys: settings.adminKeys).get("settings") { _, _ in EditedResponse(headers: .noStore, response: report) }
    }

    /// `GET /v1/admin/settings`: the service, who it logs in as, where, and how many keys guard it.
    package struct SettingsReport: ResponseCodable, Sendable, Hashable {
        package var service: String
        package var amqpURL: String
        package var databaseURL: String
        package var http: String
        package var logLevel: String
        package var apiKeys: Int
        package var adminKeys: Int

        package init(_ settings: ServiceSettings) {
            service = settings.name
            amqpURL = Self.redacted(settings.amqpURL)
            databaseURL = Self.redacted(settings.databaseURL)
            http = "\(settings.httpHost):\(settings.httpPort)"
            logLevel = settings.logLevel.rawValue
            apiKeys = settings.apiKeys.keys.count
            adminKeys = settings.adminKeys.keys.count
        }

        enum CodingKeys: String, CodingKey {
            case service, http
            case amqpURL = "amqp_url"
            case databaseURL = "database_url"
            case logLevel = "log_level"
            case apiKeys = "api_keys"
            case adminKeys = "admin_keys"
        }

        /// The URL with its password replaced by `***`.
        static func redacted(_ url: String) -> String {
            guard var components = URLComponents(string: url), components.password != nil else { return url }
            components.password = "***"
            return components.string ?? "(not a URL)"
        }
    }
}
