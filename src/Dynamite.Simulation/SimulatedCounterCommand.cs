using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Simulation;

/// <summary>
/// <c>INCRBY key amount</c> as a cluster coordinator runs it (<see cref="IKeyDeltaOperation"/>, as the front end's
/// IncrementOperation builds it): the key's one element gains an increment of the coordinator's counter chain, so
/// increments through any nodes all count.
/// </summary>
public sealed class SimulatedCounterCommand(byte[] key, long amount) : IKeyDeltaOperation
{
    /// <summary>A string's one element (the front end's name for it).</summary>
    private static readonly byte[] ValueElement = [];

    public byte[] Key => key;

    public KeyDelta? BuildDelta(IStorageTransaction transaction, NodeId actor)
    {
        KeyDeltaBuilder? counter = KeyDeltaBuilder.OpenString(transaction, key, actor, out _, out _);
        if (counter is null)
        {
            return null;
        }

        counter.Increment(ValueElement, amount);
        return counter.Build();
    }

    public void AfterJoin(IStorageTransaction transaction)
    {
    }

    /// <summary>A replica's value of the counter <paramref name="key"/> as a client reads it (0 when it is not stored).</summary>
    public static long ValueOf(Storage.IStorageEngine engine, byte[] key, long nowUnixMs)
    {
        ArgumentNullException.ThrowIfNull(engine);
        if (!engine.TryRead(key, nowUnixMs, out StoredRecord record) || !record.IsTypedHeader)
        {
            return 0;
        }

        ElementPage page = engine.ScanElements(key, null, 1);
        return page.Elements.Count == 0 ? 0 : long.Parse(ElementValue.Render(ElementState.Decode(page.Elements[0].Value)), System.Globalization.CultureInfo.InvariantCulture);
    }
}
