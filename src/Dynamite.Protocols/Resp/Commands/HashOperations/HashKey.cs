using System.Globalization;
using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.HashOperations;

/// <summary>
/// What is particular to a hash among the typed keys (<see cref="TypedKey"/> has the stored form): a field's value is
/// a last-writer-wins register write (HSET, HINCRBYFLOAT) or counter writes of the node's chain on top of it (HINCRBY),
/// and reads render it as Redis shows it.
/// </summary>
internal static class HashKey
{
    /// <summary>
    /// The field's value as Redis shows it: the register's bytes, or, when counter writes are live, the register's
    /// integer (0 without one) plus what the counters added, in decimal.
    /// </summary>
    public static byte[] Render(ElementState state)
    {
        ElementWrite? register = state.RegisterWinner();
        if (state.LiveChains().Count == 0)
        {
            return register?.Value ?? [];
        }

        long baseValue = 0;
        if (register?.Value is { } text)
        {
            _ = RespNumbers.TryParseInt64(text, out baseValue);
        }

        Int128 sum = baseValue + state.CountSum();
        return Encoding.ASCII.GetBytes(sum.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary><see cref="Render"/> of a stored element value (an <see cref="ElementState"/> encoding).</summary>
    public static byte[] RenderEncoded(byte[] encoded) => Render(ElementState.Decode(encoded));
}
