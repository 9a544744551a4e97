import Chaos
import Testing

@Suite("Fault-run plan")
struct ChaosPlanTests {
    @Test func theSameSeedMakesTheSamePlan() {
        #expect(
            ChaosPlan.make(orders: 200, rate: 10, extraFaults: 3, seed: 7, run: "a")
                == ChaosPlan.make(orders: 200, rate: 10, extraFaults: 3, seed: 7, run: "a"))
        #expect(
            ChaosPlan.make(orders: 200, rate: 10, extraFaults: 3, seed: 7, run: "a")
                != ChaosPlan.make(orders: 200, rate: 10, extraFaults: 3, seed: 8, run: "a"))
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func everyFaultKindAndEveryServiceIsHitInEveryPlan(seed: UInt64) {
        let plan = ChaosPlan.make(orders: 150, rate: 10, extraFaults: 0, seed: seed, run: "p")
        #expect(Set(plan.faults.map(\.kind)) == Set(ChaosPlan.Fault.Kind.allCases.filter { !$0.needsCluster }))
        #expect(Set(plan.faults.filter { $0.kind == .kill }.compactMap(\.target)) == Set(ChaosPlan.targets))
        #expect(plan.faults.map(\.at) == plan.faults.map(\.at).sorted())
        #expect(plan.faults.allSatisfy { $0.at < plan.duration })
    }

    @Test func aPlanOfChosenFaultsHasThoseAloneInTheirOrder() {
        let plan = ChaosPlan.make(orders: 240, rate: 6, extraFaults: 0, seed: 3, run: "n", faults: [.brokerNodeLoss, .kill, .brokerNodeLoss])
        #expect(plan.faults.map(\.kind) == [.brokerNodeLoss, .kill, .brokerNodeLoss])
        #expect(plan.faults.map(\.target) == [nil, ChaosPlan.targets[1], nil])
        #expect(plan.faults.filter { $0.kind == .brokerNodeLoss }.allSatisfy { $0.pause >= .seconds(8) && $0.pause <= .seconds(12) })
        let extras = ChaosPlan.make(orders: 240, rate: 6, extraFaults: 4, seed: 3, run: "n", faults: [.brokerNodeLoss])
        #expect(extras.faults.count == 5 && extras.faults.allSatisfy { $0.kind == .brokerNodeLoss })
        // The standard plan stays as it was for a given seed: the cluster's fault is not in it.
        #expect(ChaosPlan.make(orders: 240, rate: 6, extraFaults: 9, seed: 3, run: "n").faults.allSatisfy { !$0.kind.needsCluster })
    }

    @Test func theMixHasEveryKindOfOrderAndTheStockAddsUp() {
        let plan = ChaosPlan.make(orders: 2000, rate: 20, extraFaults: 5, seed: 42, run: "m")
        #expect(Set(plan.orders.map(\.kind)) == Set(ChaosPlan.Order.Kind.allCases))
        #expect(plan.orders.filter { $0.kind == .ok }.count > 1000)
        #expect(Set(plan.orders.map(\.index)).count == 2000)
        #expect(plan.orders.filter { $0.kind == .stockOut }.allSatisfy { $0.sku == plan.scarceSKU })
        #expect(plan.orders.filter { $0.channel == .ingress }.allSatisfy { $0.kind == .ingress || $0.kind == .duplicateIngress })
        #expect(plan.stockTotals[plan.scarceSKU] == plan.scarceStock + plan.restocks.reduce(0, +))
        // Scarce on purpose: the stock-outs ask for more than there is, so some must end refunded.
        #expect(plan.orders.filter { $0.kind == .stockOut }.map(\.quantity).reduce(0, +) > plan.stockTotals[plan.scarceSKU]!)
        #expect(plan.duration == .seconds(100))
    }
}
