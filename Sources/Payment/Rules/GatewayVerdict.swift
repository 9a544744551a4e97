/// What every gateway call's answer means, whatever was asked: the resource was created (with
/// its id), try again later, or never. A pure function of the answer.
///
/// | answer | verdict |
/// | --- | --- |
/// | `200`/`201` with the id field | ``created(id:)`` |
/// | `408`, `429`, `5xx`, no answer | ``transient(reason:)`` |
/// | anything else, or a success without the id | ``rejected(reason:)`` |
///
/// Call-specific statuses (a charge's `402` decline) are read before asking for the verdict.
enum GatewayVerdict: Hashable {
    case created(id: String)
    case transient(reason: String)
    case rejected(reason: String)

    init(_ answer: GatewayAnswer, idField: String) {
        switch answer {
        case .unreachable(let reason):
            self = .transient(reason: "gateway unreachable: \(reason)")
        case .response(let status, _) where status == 200 || status == 201:
            if let id = answer.field(idField), !id.isEmpty {
                self = .created(id: id)
            } else {
                self = .rejected(reason: "gateway answered \(status) without a \(idField)")
            }
        case .response(let status, _) where status == 408 || status == 429 || (500...599).contains(status):
            self = .transient(reason: answer.detail)
        case .response:
            self = .rejected(reason: answer.detail)
        }
    }
}
