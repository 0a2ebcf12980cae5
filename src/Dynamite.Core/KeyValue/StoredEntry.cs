namespace Dynamite.Core.KeyValue;

/// <summary>A key with its record, as partition iteration returns it.</summary>
public readonly record struct StoredEntry(byte[] Key, StoredRecord Record);
