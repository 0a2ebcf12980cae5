using System.Runtime.InteropServices;

namespace Dynamite.Protocols.Resp;

/// <summary>
/// One parsed request: its arguments as memory slices. An argument that lay in one buffer segment is a
/// slice of the connection's input buffer (valid until the session advances past it); one that spanned
/// segments was copied into an exactly-sized array the command may keep (<see cref="TryTakeOwnedArray"/>),
/// so a large value is copied once on its way into storage.
/// Reused by its session for every request; not thread-safe.
/// </summary>
public sealed class RespRequest
{
    private ReadOnlyMemory<byte>[] _arguments = new ReadOnlyMemory<byte>[8];
    private bool[] _owned = new bool[8];

    public int Count { get; private set; }

    public ReadOnlySpan<byte> this[int index] => _arguments[index].Span;

    public ReadOnlyMemory<byte> Memory(int index) => _arguments[index];

    /// <summary>Argument <paramref name="index"/> as an array the caller owns: the parser's own copy when there is one, else a new copy.</summary>
    public byte[] ToOwnedArray(int index)
    {
        if (TryTakeOwnedArray(index, out byte[]? array))
        {
            return array;
        }

        return _arguments[index].ToArray();
    }

    private bool TryTakeOwnedArray(int index, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? array)
    {
        if (_owned[index] && MemoryMarshal.TryGetArray(_arguments[index], out ArraySegment<byte> segment)
            && segment.Offset == 0 && segment.Count == segment.Array!.Length)
        {
            _owned[index] = false;
            array = segment.Array;
            return true;
        }

        array = null;
        return false;
    }

    internal void Clear() => Count = 0;

    /// <summary>Keeps only the first <paramref name="count"/> arguments.</summary>
    internal void Truncate(int count) => Count = Math.Min(Count, count);

    internal void Add(ReadOnlyMemory<byte> argument, bool owned)
    {
        if (Count == _arguments.Length)
        {
            Array.Resize(ref _arguments, Count * 2);
            Array.Resize(ref _owned, Count * 2);
        }

        _arguments[Count] = argument;
        _owned[Count] = owned;
        Count++;
    }

    /// <summary>Drops references to the input buffer once the request is done, so a large array is not kept alive.</summary>
    internal void Release()
    {
        Array.Clear(_arguments, 0, Count);
        Count = 0;
    }
}
