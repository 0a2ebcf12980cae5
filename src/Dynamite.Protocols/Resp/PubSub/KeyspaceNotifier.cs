using System.Text;
using Dynamite.Core.PubSub;

namespace Dynamite.Protocols.Resp.PubSub;

/// <summary>
/// Keyspace notifications (<c>notify-keyspace-events</c>, off by default, as in redis-server): after a command changed
/// a key, its event is published to <c>__keyspace@0__:key</c> and <c>__keyevent@0__:event</c> for the classes
/// configured. On a cluster the node that ran the command publishes it, and like any message it reaches subscribers
/// on every node (<see cref="PubSubHub"/>), so each change is announced once wherever it was made.
/// </summary>
public sealed class KeyspaceNotifier(PubSubHub hub)
{
    private const string Order = "g$lshzxetd";
    private static readonly KeyspaceEventClasses[] OrderClasses =
    [
        KeyspaceEventClasses.Generic, KeyspaceEventClasses.Strings, KeyspaceEventClasses.List, KeyspaceEventClasses.Set,
        KeyspaceEventClasses.Hash, KeyspaceEventClasses.SortedSet, KeyspaceEventClasses.Expired, KeyspaceEventClasses.Evicted,
        KeyspaceEventClasses.Stream, KeyspaceEventClasses.Module,
    ];

    private volatile int _classes;

    /// <summary>True when any event would be published: one volatile read on the command path.</summary>
    public bool Enabled => _classes != 0;

    public KeyspaceEventClasses Classes
    {
        get => (KeyspaceEventClasses)_classes;
        set => _classes = (value & (KeyspaceEventClasses.Keyspace | KeyspaceEventClasses.Keyevent)) == 0 ? 0 : (int)value;
    }

    /// <summary>The configured classes as redis-server writes them (CONFIG GET).</summary>
    public string Setting
    {
        get
        {
            KeyspaceEventClasses classes = (KeyspaceEventClasses)_classes;
            var text = new StringBuilder();
            if ((classes & KeyspaceEventClasses.All) == KeyspaceEventClasses.All)
            {
                text.Append('A');
            }
            else
            {
                for (int i = 0; i < Order.Length; i++)
                {
                    if ((classes & OrderClasses[i]) != 0)
                    {
                        text.Append(Order[i]);
                    }
                }
            }

            if ((classes & KeyspaceEventClasses.Keyspace) != 0)
            {
                text.Append('K');
            }

            if ((classes & KeyspaceEventClasses.Keyevent) != 0)
            {
                text.Append('E');
            }

            if ((classes & KeyspaceEventClasses.KeyMiss) != 0)
            {
                text.Append('m');
            }

            if ((classes & KeyspaceEventClasses.New) != 0)
            {
                text.Append('n');
            }

            return text.ToString();
        }
    }

    /// <summary>Parses a CONFIG SET value; null when it holds a letter redis-server does not know.</summary>
    public static KeyspaceEventClasses? Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        KeyspaceEventClasses classes = KeyspaceEventClasses.None;
        foreach (char letter in value)
        {
            int index = Order.IndexOf(letter, StringComparison.Ordinal);
            classes |= letter switch
            {
                'A' => KeyspaceEventClasses.All,
                'K' => KeyspaceEventClasses.Keyspace,
                'E' => KeyspaceEventClasses.Keyevent,
                'm' => KeyspaceEventClasses.KeyMiss,
                'n' => KeyspaceEventClasses.New,
                _ when index >= 0 => OrderClasses[index],
                _ => (KeyspaceEventClasses)(-1),
            };
            if ((int)classes == -1)
            {
                return null;
            }
        }

        return classes;
    }

    /// <summary>Whether events of <paramref name="eventClass"/> are published now.</summary>
    public bool Wants(KeyspaceEventClasses eventClass) => ((KeyspaceEventClasses)_classes & eventClass) != 0;

    /// <summary>
    /// Publishes one event of <paramref name="eventClass"/> for <paramref name="key"/> if it is configured: to every node's
    /// subscribers, or with <paramref name="relay"/> false to this node's only (an event each node announces itself).
    /// </summary>
    public void Notify(KeyspaceEventClasses eventClass, string eventName, byte[] key, bool relay = true)
    {
        KeyspaceEventClasses classes = (KeyspaceEventClasses)_classes;
        if ((classes & eventClass) == 0)
        {
            return;
        }

        byte[] name = Encoding.ASCII.GetBytes(eventName);
        if ((classes & KeyspaceEventClasses.Keyspace) != 0)
        {
            Publish(new PublishedMessage([.. "__keyspace@0__:"u8, .. key], name, Sharded: false), relay);
        }

        if ((classes & KeyspaceEventClasses.Keyevent) != 0)
        {
            Publish(new PublishedMessage([.. "__keyevent@0__:"u8, .. name], key, Sharded: false), relay);
        }
    }

    private void Publish(PublishedMessage message, bool relay)
    {
        if (relay)
        {
            hub.Publish(message);
        }
        else
        {
            hub.Deliver([message]);
        }
    }
}
