namespace Dynamite.Simulation;

/// <summary>How an operation ended, as the client saw it (Jepsen's invoke/ok/fail/info).</summary>
public enum OperationStatus
{
    /// <summary>Issued, not yet answered.</summary>
    Invoked = 0,

    /// <summary>Acknowledged: a read answered, a write reached W.</summary>
    Ok = 1,

    /// <summary>Definitely not done: the node was down, or the read before a Dynamo write failed.</summary>
    Failed = 2,

    /// <summary>Unknown: a write missed its quorum or the client timed out; it may be applied on some replicas.</summary>
    Indeterminate = 3,
}
