namespace Dynamite.Protocols.Resp.Acl;

/// <summary>
/// As redis-server: a client of a user subscribed to a channel or pattern the user may no longer use is closed, so a
/// revoked permission does not keep delivering messages, whether it was revoked through this node or another.
/// </summary>
internal static class RevokedSubscriptions
{
    /// <summary>
    /// Closes <paramref name="user"/>'s clients whose subscriptions its current state no longer allows, except
    /// <paramref name="current"/> (the client whose command made the change, closed after its reply); returns whether
    /// <paramref name="current"/> must close.
    /// </summary>
    public static bool CloseClients(RespServer server, AclUser user, ClientSession? current)
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
