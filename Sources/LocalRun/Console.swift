import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The lines `./infra/dev` and the commands it runs print: `==> what starts`, then indented notes,
/// in bold and colour on a terminal.
package struct Console: Sendable {
    package enum Colour: String, Sendable {
        case plain = ""
        case green = "\u{1B}[32m"
        case red = "\u{1B}[31m"
        case dim = "\u{1B}[2m"
    }

    /// Whether standard output is a terminal, which gets colours.
    package var isTerminal = isatty(1) == 1

    package init() {}

    package func info(_ line: String) { print(isTerminal ? "\u{1B}[1m==>\u{1B}[0m \(line)" : "==> \(line)") }

    package func note(_ line: String) { print("    \(line)") }

    package func warn(_ line: String) {
        FileHandle.standardError.write(Data(((isTerminal ? "\u{1B}[31mwarning:\u{1B}[0m " : "warning: ") + line + "\n").utf8))
    }

    /// A line of `status`: the name, what it does (in colour), where, and the detail in parentheses.
    package func statusLine(_ name: String, _ phase: String, _ url: String, _ detail: String, width: Int) -> String {
        let colour: Colour =
            switch phase {
            case "running": .green
            case "restarting", "crashed": .red
            default: .dim
            }
        let line = name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0) + " " + coloured(phase, colour, width: 10) + " " + url
        return detail.isEmpty ? line : line + " (\(detail))"
    }

    /// `text` in `colour` on a terminal, padded to `width` either way.
    package func coloured(_ text: String, _ colour: Colour, width: Int = 0) -> String {
        let padded = text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0)
        return isTerminal && colour != .plain ? colour.rawValue + padded + "\u{1B}[0m" : padded
    }
}
