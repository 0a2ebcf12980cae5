namespace Dynamite.Core.Coordination;

/// <summary>What the coordinator must do after feeding an event into a <see cref="PutRequest"/>.</summary>
[Flags]
public enum PutStep
{
    None = 0,

    /// <summary>Answer the client now, from <see cref="PutRequest.Outcome"/>.</summary>
    Answer = 1,

    /// <summary>Keep the written object as a durable hint for the node the failed write was meant for.</summary>
    StoreHint = 2,
}
