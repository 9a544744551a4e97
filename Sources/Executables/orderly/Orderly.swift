@main
struct Orderly {
    static func main() {}
}
