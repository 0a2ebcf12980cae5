namespace Dynamite.Core.KeyValue;

/// <summary>
/// One element of a key as an engine stores it (docs/DATA-TYPES.md, "Storage"): its name (a set member, a hash field)
/// and its value, opaque bytes to the engine (an <see cref="DataTypes.ElementState"/> encoding).
/// Invariant: neither array is mutated once stored; a write replaces the value array.
/// </summary>
/// <param name="Name">The element's name; may be empty (a string key's one element is named by the empty string).</param>
/// <param name="Value">The element's value bytes.</param>
public readonly record struct StoredElement(byte[] Name, byte[] Value);
