using System.Collections.Concurrent;
using System.Globalization;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Redis's encoding thresholds (<c>hash-max-listpack-entries</c> and the like), which <c>CONFIG SET</c> accepts and
/// <c>CONFIG GET</c> reports. They tune how redis-server lays a small collection out in memory; Dynamite's storage has
/// one layout (elements as records), so a value set here changes nothing but what <c>CONFIG GET</c> answers and the
/// encoding <c>OBJECT ENCODING</c> names (the one redis-server would choose). Accepting
/// them lets tools and test suites that tune them (Redis's own does, before checking replies) run unchanged.
/// Old names (<c>ziplist</c>) are aliases of the listpack ones, as in Redis 7.
/// </summary>
internal sealed class EncodingParameters
{
    private static readonly Dictionary<string, long> Defaults = new(StringComparer.OrdinalIgnoreCase)
    {
        ["hash-max-listpack-entries"] = 128,
        ["hash-max-listpack-value"] = 64,
        ["set-max-intset-entries"] = 512,
        ["zset-max-listpack-entries"] = 128,
        ["zset-max-listpack-value"] = 64,
        ["list-max-listpack-size"] = -2,
        ["list-compress-depth"] = 0,
        ["stream-node-max-bytes"] = 4096,
        ["stream-node-max-entries"] = 100,
        ["hll-sparse-max-bytes"] = 3000,
    };

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["hash-max-ziplist-entries"] = "hash-max-listpack-entries",
        ["hash-max-ziplist-value"] = "hash-max-listpack-value",
        ["zset-max-ziplist-entries"] = "zset-max-listpack-entries",
        ["zset-max-ziplist-value"] = "zset-max-listpack-value",
        ["list-max-ziplist-size"] = "list-max-listpack-size",
    };

    private readonly ConcurrentDictionary<string, long> _values = new(Defaults, StringComparer.OrdinalIgnoreCase);

    /// <summary>The canonical name of <paramref name="name"/> (an alias resolved), or null when it is not one of these parameters.</summary>
    public static string? Canonical(string name) =>
        Aliases.TryGetValue(name, out string? canonical) ? canonical : Defaults.ContainsKey(name) ? name.ToLowerInvariant() : null;

    /// <summary>Every parameter under its own name and its aliases, with its current value.</summary>
    public IEnumerable<KeyValuePair<string, string>> All()
    {
        foreach (string name in Defaults.Keys)
        {
            yield return new(name, Format(_values[name]));
        }

        foreach ((string alias, string canonical) in Aliases)
        {
            yield return new(alias, Format(_values[canonical]));
        }
    }

    /// <summary>The value of the canonical parameter <paramref name="canonical"/>.</summary>
    public long Get(string canonical) => _values[canonical];

    /// <summary>Sets the canonical parameter <paramref name="canonical"/>.</summary>
    public void Set(string canonical, long value) => _values[canonical] = value;

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
