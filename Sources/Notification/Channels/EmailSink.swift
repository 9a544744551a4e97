import Foundation
import Messaging

/// Writes each notification as an RFC 5322 message file into a mail folder, where a mail
/// transfer agent (or a person) picks it up.
///
/// The file is `<notification id>.eml`, written atomically (a temporary file renamed into place),
/// so a retry replaces the message instead of adding a second one, and a reader never sees half a file.
public struct EmailSink: NotificationChannel {
    public var name: String { "email" }
    public let directory: URL
    /// The `From` mailbox.
    public let from: String

    public init(directory: URL, from: String = "Orderly <orders@orderly.local>") {
        self.directory = directory
        self.from = from
    }

    /// Where the message of a notification goes.
    public func file(for notificationID: String) -> URL {
        directory.appendingPathComponent("\(notificationID).eml")
    }

    /// - Throws: ``TransientFailure`` when the folder or the file cannot be written (a full or
    ///   read-only disk may recover).
    public func send(_ notification: CustomerNotification) async throws {
        let message = EmailMessage.compose(notification, from: from, date: Date()).rendered()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(message.utf8).write(to: file(for: notification.id), options: .atomic)
        } catch {
            throw TransientFailure("cannot write the mail of notification \(notification.id) into \(directory.path): \(error.localizedDescription)")
        }
    }
}
