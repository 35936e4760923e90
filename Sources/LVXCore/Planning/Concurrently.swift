/// Runs `body` for every item at once and returns the results in the items' order.
///
/// Units are independent devices on their own ports, so reading them one after another would only
/// add their wire times; this is how plan and apply stay near one unit's time however many there are.
public func concurrently<Item: Sendable, Output: Sendable>(
    _ items: [Item],
    _ body: @escaping @Sendable (Item) async -> Output
) async -> [Output] {
    await withTaskGroup(of: (Int, Output).self) { group in
        for (i, item) in items.enumerated() {
            group.addTask { (i, await body(item)) }
        }
        var results: [(Int, Output)] = []
        results.reserveCapacity(items.count)
        for await result in group { results.append(result) }
        return results.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
