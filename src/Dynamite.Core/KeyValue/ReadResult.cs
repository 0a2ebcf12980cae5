namespace Dynamite.Core.KeyValue;

/// <summary>The outcome of a read: the live record, or not found (absent, deleted or expired).</summary>
public readonly record struct ReadResult(bool Found, StoredRecord Record)
{
    public static ReadResult NotFound => default;

    public static ReadResult Of(StoredRecord record) => new(true, record);
}
