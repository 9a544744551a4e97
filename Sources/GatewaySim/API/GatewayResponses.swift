import Contracts
import Foundation

/// `201` body of `POST /v1/charges`.
struct ChargeCreated: Encodable {
    var chargeID: String
    var status: String

    enum CodingKeys: String, CodingKey {
        case status
        case chargeID = "charge_id"
    }
}

/// `402` body of `POST /v1/charges` for a declined card: problem details with the decline code.
struct ChargeDeclined: Encodable {
    var type = "about:blank"
    var title = "Payment Required"
    var status = 402
    var detail: String
    var instance: String
    var code = "card_declined"
    var chargeID: String

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, code
        case chargeID = "charge_id"
    }
}

/// `201` body of `POST /v1/refunds`.
struct RefundCreated: Encodable {
    var refundID: String
    var chargeID: String
    var amountCents: Int

    enum CodingKeys: String, CodingKey {
        case refundID = "refund_id"
        case chargeID = "charge_id"
        case amountCents = "amount_cents"
    }
}

enum GatewayJSON {
    static func encode(_ value: some Encodable) -> String {
        // The values encoded here are plain structs of strings and integers: encoding cannot fail.
        String(decoding: try! JSONEncoder.orderly.encode(value), as: UTF8.self)
    }

    /// A new identifier with a prefix, like `ch_3f2a…`.
    static func newID(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }
}
