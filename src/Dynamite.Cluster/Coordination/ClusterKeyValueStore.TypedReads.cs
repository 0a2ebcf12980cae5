using Dynamite.Core.DataTypes;
using Dynamite.Core.Quorum;
using Dynamite.Core.Versioning;

namespace Dynamite.Cluster.Coordination;

/// <summary>
/// Typed keys' reads on a cluster node (docs/DATA-TYPES.md, "replica read"): the elements an
/// <see cref="IElementReadOperation"/> names, a range of them, or all of them, read by quorum from the key's primaries in
/// bounded pages (<see cref="ElementSelection.MaxElements"/>), then the operation runs over the join. A read of every
/// element (HGETALL, SCARD) walks the key page by page, each page its own quorum read: like SCAN, it sees every element
/// present for the whole walk, and an element added or removed during it may or may not be seen.
/// </summary>
public sealed partial class ClusterKeyValueStore
{
    private async ValueTask ReadElementsThenRunAsync(IElementReadOperation operation, ConsistencyLevel? consistency, CancellationToken cancellationToken)
    {
        byte[] key = operation.Key;
        KeyHeader? header = null;
        VersionedObject? plain = null;
        var elements = new List<KeyValuePair<byte[], ElementState>>();
        bool first = true;
        bool more = false;
        if (operation.Names is { } names)
        {
            for (int start = 0; first || start < names.Count; start += ElementSelection.MaxElements)
            {
                ElementSelection chunk = ElementSelection.Named(names.Skip(start).Take(ElementSelection.MaxElements));
                TypedReadJoin join = await coordinator.ReadElementsAsync(key, chunk, consistency, cancellationToken);
                if (!Take(join, ref header, ref plain, ref first))
                {
                    break;
                }

                elements.AddRange(join.Elements);
            }
        }
        else
        {
            byte[]? after = operation.After;
            int limit = operation.Limit;
            do
            {
                int pageLimit = limit == 0 ? ElementSelection.MaxElements : Math.Min(limit - elements.Count, ElementSelection.MaxElements);
                TypedReadJoin join = await coordinator.ReadElementsAsync(key, ElementSelection.Page(after, pageLimit), consistency, cancellationToken);
                if (!Take(join, ref header, ref plain, ref first))
                {
                    break;
                }

                elements.AddRange(join.Elements);
                after = join.ResumeAfter;
                more = after is not null;
            }
            // A page of the join may hold fewer elements than asked (it ends where the shortest replica page ended, and
            // removed names are left out): a range read goes on until it has some or the key ends.
            while (more && (limit == 0 || elements.Count == 0));
        }

        operation.Execute(new JoinedKeyView(key, header, plain, elements, more, NowUnixMs));
    }

    /// <summary>
    /// Takes one page's header or string into the read's; false when this page found the key gone or changed into a
    /// string (a later page of a walk), which ends the walk with what it has.
    /// </summary>
    private static bool Take(TypedReadJoin join, ref KeyHeader? header, ref VersionedObject? plain, ref bool first)
    {
        if (first)
        {
            first = false;
            header = join.Header;
            plain = join.Plain;
            return header is not null;
        }

        if (header is null || join.Header is null || join.Header.Type != header.Type)
        {
            return false;
        }

        header = KeyHeader.Join(header, join.Header);
        return true;
    }
}
