import Foundation

/// A plain-text email as RFC 5322 defines it: header fields, an empty line, a body, every line
/// ending in CRLF.
///
/// Pure: ``compose(_:from:date:)`` decides what the customer reads and ``rendered()`` produces
/// the bytes, so both are tested without a mail folder.
package struct EmailMessage: Sendable, Hashable {
    /// The `From` mailbox, `Orderly <orders@orderly.example>`.
    package var from: String
    /// The customer's address.
    package var to: String
    package var subject: String
    package var date: Date
    /// Without angle brackets: `<id>@<domain>`.
    package var messageID: String
    /// The body as lines, without line endings.
    package var bodyLines: [String]

    package init(from: String, to: String, subject: String, date: Date, messageID: String, bodyLines: [String]) {
        self.from = from
        self.to = to
        self.subject = subject
        self.date = date
        self.messageID = messageID
        self.bodyLines = bodyLines
    }

    /// The email telling a customer how their order ended.
    ///
    /// - Parameters:
    ///   - from: the sender mailbox; its domain also names the `Message-ID`.
    ///   - date: when the message is written.
    package static func compose(_ notification: CustomerNotification, from: String, date: Date) -> EmailMessage {
        let order = notification.orderID
        let subject: String
        var lines: [String] = ["Hello,", ""]
        switch notification.outcome {
        case .completed:
            subject = "Your order \(order) is confirmed"
            lines.append("Your order \(order) is complete: it is paid and every item is reserved for you.")
        case .failed:
            subject = "Your order \(order) could not be completed"
            lines.append("Your order \(order) could not be completed. Nothing was charged.")
        case .cancelled:
            subject = "Your order \(order) was cancelled"
            lines.append("Your order \(order) was cancelled. Any payment taken for it is refunded in full.")
        }
        lines.append("")
        lines.append("Total: \(notification.formattedTotal)")
        if let reason = notification.reason, !reason.isEmpty {
            lines.append("Reason: \(oneLine(reason))")
        }
        lines += ["", "Notification \(notification.id)", "", "-- ", "Orderly"]
        return EmailMessage(
            from: from, to: notification.customer.email, subject: subject, date: date,
            messageID: "\(notification.id)@\(domain(of: from) ?? "orderly.local")", bodyLines: lines
        )
    }

    /// The message as RFC 5322 text with CRLF line endings.
    ///
    /// Header values lose any CR or LF (no header can be injected through an address or a reason);
    /// a non-ASCII subject is an RFC 2047 encoded word; body lines longer than 78 characters are
    /// wrapped at spaces, and none exceeds RFC 5322's 998.
    package func rendered() -> String {
        let headers = [
            "From: \(Self.headerValue(from))",
            "To: \(Self.headerValue(to))",
            "Subject: \(Self.encodedWord(Self.headerValue(subject)))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: <\(Self.headerValue(messageID))>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        let body = bodyLines.flatMap { Self.wrap(Self.oneLine($0, keepingTrailingSpace: true), width: 78) }
        return (headers + [""] + body).map { $0 + "\r\n" }.joined()
    }

    /// `Tue, 03 Mar 2026 09:05:07 +0000`: RFC 5322's date-time, in UTC.
    package static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        return "\(days[(parts.weekday ?? 1) - 1]), \(two(parts.day)) \(months[(parts.month ?? 1) - 1]) \(parts.year ?? 1970) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }

    static func headerValue(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }.map(Character.init))
    }

    /// The text on one line: CR, LF and tabs become spaces.
    static func oneLine(_ text: String, keepingTrailingSpace: Bool = false) -> String {
        let flat = String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" || $0 == "\t" ? " " : $0 })
        return keepingTrailingSpace ? flat : flat.trimmingCharacters(in: .whitespaces)
    }

    /// An RFC 2047 `=?utf-8?B?…?=` word for non-ASCII text; ASCII text as it is.
    static func encodedWord(_ text: String) -> String {
        guard !text.unicodeScalars.allSatisfy(\.isASCII) else { return text }
        return "=?utf-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    /// Breaks a line at spaces so that no piece is longer than `width` characters, unless a single
    /// word is; a word longer than 998 UTF-8 bytes is cut.
    static func wrap(_ line: String, width: Int) -> [String] {
        guard line.count > width else { return [line] }
        var lines: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            var word = String(word)
            while word.utf8.count > 998 {
                let cut = word.prefix(240)  // At most 4 bytes a character.
                lines.append(String(cut))
                word.removeFirst(cut.count)
            }
            if current.isEmpty {
                current = word
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = word
            }
        }
        lines.append(current)
        return lines
    }

    static func domain(of mailbox: String) -> String? {
        let address = mailbox.split(separator: "<").last.map { $0.split(separator: ">").first.map(String.init) ?? String($0) } ?? mailbox
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = address[address.index(after: at)...].trimmingCharacters(in: .whitespaces)
        return domain.isEmpty ? nil : domain
    }
}
