using System.Globalization;
using System.Text;
using Dynamite.Core.KeyValue;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// What a client reads of an element that holds a register and counter writes (a hash field, a string counter on a
/// cluster: docs/DATA-TYPES.md, "Counters"): the register's bytes, or, when counter writes are live, the register's
/// integer (0 without one, or when it is not one) plus what the counters added, in decimal.
/// </summary>
public static class ElementValue
{
    public static byte[] Render(ElementState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ElementWrite? register = state.RegisterWinner();
        if (state.LiveChains().Count == 0)
        {
            return register?.Value ?? [];
        }

        long baseValue = 0;
        if (register?.Value is { } text)
        {
            _ = RedisIntegers.TryParse(text, out baseValue);
        }

        Int128 sum = baseValue + state.CountSum();
        return Encoding.ASCII.GetBytes(sum.ToString(CultureInfo.InvariantCulture));
    }
}
