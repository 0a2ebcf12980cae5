namespace Dynamite.Core.KeyValue;

/// <summary>
/// An atomic read-modify-write over one or more keys. The engine runs <see cref="Execute"/> with no other
/// write interleaved and applies its staged changes all-or-nothing: if it throws, nothing is written.
/// Execute must be quick and pure CPU (it may run on an I/O thread or on an engine's writer thread) and may
/// run exactly once.
/// </summary>
public interface IStorageOperation
{
    void Execute(IStorageTransaction transaction);
}
