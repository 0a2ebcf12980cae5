namespace Dynamite.Protocols.Resp.Acl;

/// <summary>
/// The clients an ACL change takes rights from are closed, as redis-server closes them, whether the change came through
/// this node or another: those of a deleted user, and a user's subscribers to channels it may no longer use (so a
/// revoked permission does not keep delivering messages).
/// </summary>
internal static class AclRevocations
{
    /// <summary>
    /// Closes every client of a deleted user except <paramref name="current"/>; returns whether <paramref name="current"/>
    /// is one and must close after its reply.
    /// </summary>
    public static bool CloseClientsOfDeletedUsers(RespServer server, ClientSession? current)
    {
        bool closeCurrent = false;
        foreach (ClientSession client in server.Clients.Snapshot())
        {
            if (client.User is not { Deleted: true })
            {
                continue;
            }

            if (ReferenceEquals(client, current))
            {
                closeCurrent = true;
            }
            else
            {
                client.Abort();
            }
        }

        return closeCurrent;
    }

    /// <summary>
    /// Closes <paramref name="user"/>'s clients whose subscriptions its current state no longer allows, except
    /// <paramref name="current"/> (the client whose command made the change, closed after its reply); returns whether
    /// <paramref name="current"/> must close.
    /// </summary>
    public static bool CloseSubscribers(RespServer server, AclUser user, ClientSession? current)
    {
        AclUserState state = user.State;
        if (state.AllChannels)
        {
            return false;
        }

        bool closeCurrent = false;
        foreach (ClientSession client in server.Clients.Snapshot())
        {
            if (!ReferenceEquals(client.User, user) || client.Subscriptions is not { Total: > 0 } subscriptions || Allowed(state, subscriptions))
            {
                continue;
            }

            if (ReferenceEquals(client, current))
            {
                closeCurrent = true;
            }
            else
            {
                // Gone from CLIENT LIST at once, as in redis-server; the connection's own end finds it unregistered.
                client.Abort();
                server.Clients.Unregister(client);
            }
        }

        return closeCurrent;
    }

    private static bool Allowed(AclUserState state, PubSub.ClientSubscriptions subscriptions)
    {
        try
        {
            return subscriptions.Of(PubSub.SubscriptionKind.Channel).All(c => state.CanAccessChannel(c, isPattern: false))
                && subscriptions.Of(PubSub.SubscriptionKind.ShardChannel).All(c => state.CanAccessChannel(c, isPattern: false))
                && subscriptions.Of(PubSub.SubscriptionKind.Pattern).All(p => state.CanAccessChannel(p, isPattern: true));
        }
        catch (InvalidOperationException)
        {
            // The client's own loop changed its subscriptions while this read them: close it, the safe side.
            return false;
        }
    }
}
