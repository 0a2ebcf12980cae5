namespace Dynamite.Simulation;

/// <summary>What a client asked for.</summary>
public enum OperationKind
{
    /// <summary>A quorum read.</summary>
    Read = 1,

    /// <summary>Dynamo's put(key, context, value): a read, then a write carrying the read's context (DSET).</summary>
    DynamoWrite = 2,

    /// <summary>A plain put without a context, resolved last-writer-wins on read (SET).</summary>
    PlainWrite = 3,

    /// <summary>A set add: read the set, add one unique element, write it back with the read's context.</summary>
    SetAdd = 4,

    /// <summary>A typed set's SADD of one unique member, sent as a delta.</summary>
    TypedSetAdd = 5,

    /// <summary>A typed set's SREM of a member whose add was acknowledged, sent as a delta.</summary>
    TypedSetRemove = 6,

    /// <summary>A counter's INCRBY of a positive amount, sent as a delta.</summary>
    CounterIncrement = 7,

    /// <summary>A sorted set's ZADD of one member (a new unique one, or a new score for one already added), sent as a delta.</summary>
    SortedSetAdd = 8,

    /// <summary>A sorted set's ZREM of a member whose add was acknowledged, sent as a delta.</summary>
    SortedSetRemove = 9,

    /// <summary>A list's LPUSH or RPUSH of one unique value, sent as a delta.</summary>
    ListPush = 10,
}
