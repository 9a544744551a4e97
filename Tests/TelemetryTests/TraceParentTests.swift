import Telemetry
import Testing

@Suite("W3C traceparent")
struct TraceParentTests {
    static let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func aValidHeaderIsReadIntoItsPartsAndWrittenBackAsItCame() throws {
        let parent = try #require(TraceParent(Self.header))
        #expect(parent.traceIDHigh == 0x4bf9_2f35_77b3_4da6)
        #expect(parent.traceIDLow == 0xa3ce_929d_0e0e_4736)
        #expect(parent.parentID == 0x00f0_67aa_0ba9_02b7)
        #expect(parent.flags == 1)
        #expect(parent.isSampled)
        #expect(parent.description == Self.header)
        #expect(parent.traceIDText == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(parent.parentIDText == "00f067aa0ba902b7")
    }

    @Test(arguments: [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // trace id all zeros
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // parent id all zeros
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // the forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 has four fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",  // short flags
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",  // trailing space
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",  // wrong separator
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba9zzb7-01",  // not hex
        "garbage", "",
    ])
    func anInvalidHeaderIsRefused(_ text: String) {
        #expect(TraceParent(text) == nil)
    }

    @Test func aLaterVersionIsReadByItsFirstFourFieldsAndPassedOnAsVersion00() throws {
        let parent = try #require(TraceParent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-later"))
        #expect(parent.description == Self.header)
    }

    @Test func anUnsampledTraceStaysUnsampledInItsChildren() throws {
        let parent = try #require(TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
        var generator = SystemRandomNumberGenerator()
        let child = parent.child(using: &generator)
        #expect(!child.isSampled)
        #expect(child.description.hasSuffix("-00"))
    }

    @Test func aChildKeepsTheTraceAndGetsAParentIdOfItsOwn() throws {
        let parent = try #require(TraceParent(Self.header))
        var generator = SystemRandomNumberGenerator()
        let child = parent.child(using: &generator)
        #expect(child.traceIDText == parent.traceIDText)
        #expect(child.parentID != parent.parentID)
        #expect(child.parentID != 0)
        #expect(child.flags == parent.flags)
    }

    @Test func aFreshTraceIsValidSampledAndReadsBackAsItself() throws {
        for _ in 0..<100 {
            let fresh = TraceParent.random()
            #expect(fresh.isSampled)
            #expect(fresh.description.utf8.count == 55)
            #expect(TraceParent(fresh.description) == fresh)
        }
    }

    @Test func aGeneratorOfZerosCannotMakeAZeroId() {
        // Zeros first, then ones: the ids are drawn again until they are not zero.
        struct ZerosThenOnes: RandomNumberGenerator {
            var calls = 0
            mutating func next() -> UInt64 {
                calls += 1
                return calls <= 3 ? 0 : 1
            }
        }
        var generator = ZerosThenOnes()
        let fresh = TraceParent.random(using: &generator)
        #expect(fresh.traceIDHigh != 0 || fresh.traceIDLow != 0)
        #expect(fresh.parentID != 0)
    }
}
