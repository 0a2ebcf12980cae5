using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;

namespace Dynamite.Protocols.Resp.Commands.ListOperations;

/// <summary>
/// LPUSH, RPUSH, LPUSHX and RPUSHX: each value gets a position before the first item or after the last, in argument
/// order (so LPUSH a b c leaves c b a). Finding the first or the last item is one page read (the last a backward one).
/// </summary>
internal sealed class ListPushOperation(byte[] key, byte[][] values, bool atHead, bool onlyIfExists, NodeId actor)
    : ListChange(key, actor), IForwardableOperation
{
    /// <summary>The list's length after the push (0 when an X form found no list).</summary>
    public long Length { get; private set; }

    public IReadOnlyList<byte[]> CommandArguments() =>
        [Encoding.ASCII.GetBytes((atHead ? "L" : "R") + (onlyIfExists ? "PUSHX" : "PUSH")), Key, .. values];

    protected override void Restart() => Length = 0;

    protected override void Change(KeyDeltaBuilder builder, IStorageTransaction transaction, bool replicated)
    {
        if (onlyIfExists && IsAbsent(builder))
        {
            return;
        }

        byte[] neighbour = [];
        if (!IsAbsent(builder))
        {
            var items = new List<ListItem>();
            if (atHead)
            {
                ListItem.ReadFirst(transaction, Key, 1, items);
            }
            else
            {
                ListItem.ReadLast(transaction, Key, 1, items);
            }

            if (items.Count > 0)
            {
                neighbour = atHead ? items[0].Position : items[^1].Position;
            }
        }

        foreach (byte[] value in values)
        {
            neighbour = atHead ? Insert(builder, [], neighbour, value) : Insert(builder, neighbour, [], value);
        }

        Length = builder.StoredElementCount + values.Length;
    }
}
