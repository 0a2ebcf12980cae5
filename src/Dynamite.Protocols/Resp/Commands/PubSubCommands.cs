using Dynamite.Core.KeyValue;
using Dynamite.Core.Partitioning;
using Dynamite.Core.PubSub;
using Dynamite.Protocols.Resp.PubSub;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their opposites, PUBLISH, SPUBLISH and PUBSUB, as redis-server answers them
/// (RESP2 arrays, RESP3 pushes). On a cluster every node relays what its clients publish to every other node
/// (<see cref="PubSubHub"/>), so a subscriber connected to any node gets messages published on any node; PUBLISH
/// answers how many subscribers of this node got it and PUBSUB reports this node's subscriptions, as a Redis Cluster
/// node does.
/// </summary>
internal static class PubSubCommands
{
    private const CommandFlags PubSubFlags = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale;

    private static readonly IReadOnlyList<string> HelpLines =
    [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ];

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("SUBSCRIBE", -2, PubSubFlags, 0, 0, 0, "pubsub", "2.0.0", "Listens for messages published to channels.", static c => Subscribe(c, SubscriptionKind.Channel)),
        new("PSUBSCRIBE", -2, PubSubFlags, 0, 0, 0, "pubsub", "2.0.0", "Listens for messages published to channels that match one or more patterns.", static c => Subscribe(c, SubscriptionKind.Pattern)),
        new("SSUBSCRIBE", -2, PubSubFlags, 1, -1, 1, "pubsub", "7.0.0", "Listens for messages published to shard channels.", static c => Subscribe(c, SubscriptionKind.ShardChannel)),
        new("UNSUBSCRIBE", -1, PubSubFlags, 0, 0, 0, "pubsub", "2.0.0", "Stops listening to messages posted to channels.", static c => Unsubscribe(c, SubscriptionKind.Channel)),
        new("PUNSUBSCRIBE", -1, PubSubFlags, 0, 0, 0, "pubsub", "2.0.0", "Stops listening to messages published to channels that match one or more patterns.", static c => Unsubscribe(c, SubscriptionKind.Pattern)),
        new("SUNSUBSCRIBE", -1, PubSubFlags, 1, -1, 1, "pubsub", "7.0.0", "Stops listening to messages posted to shard channels.", static c => Unsubscribe(c, SubscriptionKind.ShardChannel)),
        new("PUBLISH", 3, PubSubFlags | CommandFlags.Fast, 0, 0, 0, "pubsub", "2.0.0", "Posts a message to a channel.", static c => Publish(c, sharded: false)),
        new("SPUBLISH", 3, PubSubFlags | CommandFlags.Fast, 1, 1, 1, "pubsub", "7.0.0", "Post a message to a shard channel", static c => Publish(c, sharded: true)),
        new("PUBSUB", -2, PubSubFlags, 0, 0, 0, "pubsub", "2.8.0", "A container for Pub/Sub commands.", PubSubInfo),
    ];

    /// <summary>The commands a RESP2 client in the subscribed state may still send.</summary>
    public static bool AllowedWhileSubscribed(CommandDefinition command) =>
        command.LowerName is "subscribe" or "psubscribe" or "ssubscribe" or "unsubscribe" or "punsubscribe" or "sunsubscribe" or "ping" or "quit" or "reset";

    private static ValueTask Subscribe(CommandContext context, SubscriptionKind kind)
    {
        if (kind == SubscriptionKind.ShardChannel && context.Store is IVersionedKeyValueStore
            && !HashSlot.AllInOne(Enumerable.Range(1, context.ArgumentCount - 1).Select(context.OwnedArgument)))
        {
            return context.Error(RespErrors.CrossSlot);
        }

        ClientSession client = context.Client;
        for (int i = 1; i < context.ArgumentCount; i++)
        {
            byte[] name = context.OwnedArgument(i);
            context.Server.PubSub.Subscribe(client, kind, name);
            WriteConfirmation(context, SubscribeWord(kind), name, client.Subscriptions!.CountFor(kind));
        }

        return ValueTask.CompletedTask;
    }

    private static ValueTask Unsubscribe(CommandContext context, SubscriptionKind kind)
    {
        ClientSession client = context.Client;
        ReadOnlySpan<byte> word = UnsubscribeWord(kind);
        IReadOnlyList<byte[]> names = context.ArgumentCount > 1
            ? [.. Enumerable.Range(1, context.ArgumentCount - 1).Select(context.OwnedArgument)]
            : [.. client.Subscriptions?.Of(kind) ?? []];
        if (names.Count == 0)
        {
            // Nothing to leave: redis-server still answers once, with a null name.
            WriteConfirmation(context, word, null, client.Subscriptions?.CountFor(kind) ?? 0);
            return ValueTask.CompletedTask;
        }

        foreach (byte[] name in names)
        {
            context.Server.PubSub.Unsubscribe(client, kind, name);
            WriteConfirmation(context, word, name, client.Subscriptions?.CountFor(kind) ?? 0);
        }

        return ValueTask.CompletedTask;
    }

    private static ValueTask Publish(CommandContext context, bool sharded)
    {
        var message = new PublishedMessage(context.OwnedArgument(1), context.OwnedArgument(2), sharded);
        int delivered = context.Server.PubSub.Publish(message, context.Client, context.Writer);
        context.Writer.WriteInteger(delivered);
        return ValueTask.CompletedTask;
    }

    private static ValueTask PubSubInfo(CommandContext context)
    {
        PubSubHub hub = context.Server.PubSub;
        string sub = context.ArgumentString(1).ToUpperInvariant();
        switch (sub)
        {
            case "CHANNELS" or "SHARDCHANNELS" when context.ArgumentCount <= 3:
            {
                SubscriptionKind kind = sub == "CHANNELS" ? SubscriptionKind.Channel : SubscriptionKind.ShardChannel;
                IReadOnlyList<byte[]> channels = hub.ActiveChannels(kind, context.ArgumentCount == 3 ? context.OwnedArgument(2) : null);
                context.Writer.WriteArrayHeader(channels.Count);
                foreach (byte[] channel in channels)
                {
                    context.Writer.WriteBulk(channel);
                }

                return ValueTask.CompletedTask;
            }

            case "NUMSUB" or "SHARDNUMSUB":
            {
                SubscriptionKind kind = sub == "NUMSUB" ? SubscriptionKind.Channel : SubscriptionKind.ShardChannel;
                context.Writer.WriteMapHeader(context.ArgumentCount - 2);
                for (int i = 2; i < context.ArgumentCount; i++)
                {
                    byte[] channel = context.OwnedArgument(i);
                    context.Writer.WriteBulk(channel);
                    context.Writer.WriteInteger(hub.SubscriberCount(kind, channel));
                }

                return ValueTask.CompletedTask;
            }

            case "NUMPAT" when context.ArgumentCount == 2:
                context.Writer.WriteInteger(hub.PatternCount);
                return ValueTask.CompletedTask;
            case "HELP" when context.ArgumentCount == 2:
                return context.Help(HelpLines);
            default:
                return context.Error(RespErrors.UnknownSubcommand(context.ArgumentString(1), "PUBSUB"));
        }
    }

    /// <summary>A (un)subscribe confirmation: kind, name (null when there was none to leave), the client's count.</summary>
    private static void WriteConfirmation(CommandContext context, ReadOnlySpan<byte> word, byte[]? name, int count)
    {
        RespWriter writer = context.Writer;
        writer.Pushing = true;
        writer.WriteRaw(writer.IsResp3 ? ">3\r\n"u8 : "*3\r\n"u8);
        writer.WriteBulk(word);
        if (name is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.WriteBulk(name);
        }

        writer.WriteInteger(count);
        writer.Pushing = false;
    }

    private static ReadOnlySpan<byte> SubscribeWord(SubscriptionKind kind) => kind switch
    {
        SubscriptionKind.Channel => "subscribe"u8,
        SubscriptionKind.Pattern => "psubscribe"u8,
        _ => "ssubscribe"u8,
    };

    private static ReadOnlySpan<byte> UnsubscribeWord(SubscriptionKind kind) => kind switch
    {
        SubscriptionKind.Channel => "unsubscribe"u8,
        SubscriptionKind.Pattern => "punsubscribe"u8,
        _ => "sunsubscribe"u8,
    };
}
