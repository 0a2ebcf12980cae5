namespace Dynamite.Core.Bitmaps;

/// <summary>One field a bit command wrote: <paramref name="Width"/> bits (1 to 64) at <paramref name="BitOffset"/> set to the low bits of <paramref name="Value"/>.</summary>
public readonly record struct BitPatch(long BitOffset, int Width, ulong Value);
