import Foundation
import Messaging

/// Writes each notification as an RFC 5322 message file into a mail folder, where a mail
/// transfer agent (or a person) picks it up.
///
/// The file is `<notification id>.eml`, written atomically (a temporary file renamed into place),
/// so a retry replaces the message instead of adding a second one, and a reader never sees half a file.
/// The write, and the `fsync` that makes it durable before the notification counts as sent, run on a
/// thread of their own: blocking in a task would hold one of the few threads every task of the
/// process shares, and a batch's messages are written concurrently, their flushes shared by the disk.
package struct EmailSink: NotificationChannel {
    package var name: String { "email" }
    package let directory: URL
    /// The `From` mailbox.
    package let from: String

    package init(directory: URL, from: String = "Orderly <orders@orderly.local>") {
        self.directory = directory
        self.from = from
    }

    /// Where the message of a notification goes.
    package func file(for notificationID: String) -> URL {
        directory.appendingPathComponent("\(notificationID).eml")
    }

    /// - Throws: ``TransientFailure`` when the folder or the file cannot be written (a full or
    ///   read-only disk may recover).
    package func send(_ notification: CustomerNotification) async throws {
        let message = Data(EmailMessage.compose(notification, from: from, date: Date()).rendered().utf8)
        let (directory, file) = (directory, file(for: notification.id))
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                DispatchQueue.global().async {
                    continuation.resume(
                        with: Result {
                            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                            try message.write(to: file, options: .atomic)
                        })
                }
            }
        } catch {
            throw TransientFailure("cannot write the mail of notification \(notification.id) into \(directory.path): \(error.localizedDescription)")
        }
    }
}
