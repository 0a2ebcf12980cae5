namespace Dynamite.Core.KeyValue;

/// <summary>
/// A string read met a typed key (a hash, a set: docs/DATA-TYPES.md) on a cluster replica. A cluster node answers a
/// read of such a key through the typed path instead; where a caller has no typed path (the Dynamo API's DGET), the
/// client gets WRONGTYPE.
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
