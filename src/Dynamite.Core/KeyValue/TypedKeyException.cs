namespace Dynamite.Core.KeyValue;

/// <summary>
/// A string read or write met a typed key (a hash, a set: docs/DATA-TYPES.md) on a cluster replica. A cluster node
/// answers a read of such a key through the typed path instead; a string write over it fails on that replica (the
/// string path does not replace a typed key on a cluster yet), and the client is told so.
/// </summary>
public sealed class TypedKeyException : InvalidOperationException
{
    public TypedKeyException()
    {
    }

    public TypedKeyException(string message)
        : base(message)
    {
    }

    public TypedKeyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
