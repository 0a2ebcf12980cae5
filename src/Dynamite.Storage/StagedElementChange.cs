namespace Dynamite.Storage;

/// <summary>
/// One staged change of a key's elements: a write of <see cref="Element"/> (<see cref="Value"/> set), a delete of it
/// (<see cref="Value"/> null), or a delete of every element of the key (<see cref="Element"/> null, <see cref="DeletesAll"/>).
/// </summary>
internal readonly record struct StagedElementChange(byte[] Key, ulong KeyHash, byte[]? Element, byte[]? Value)
{
    public bool DeletesAll => Element is null;
}
