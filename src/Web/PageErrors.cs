using System.Security.Cryptography;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.Logging;

namespace ScalingLedger.Web;

/// <summary>
/// The ids a page shows when something on it fails, so that what a researcher reads on the page finds the Server's log line.
/// Every open page has a session (<see cref="PageSession"/>, one per Blazor circuit, logged with the circuit's own id when it
/// opens); a panel that fails (<c>Panel</c>, an error boundary) logs its exception with an error id of its own and the page's
/// session, and shows both. An exception that escapes every panel ends the circuit: Blazor logs it with the circuit's id, and
/// the page's error bar shows the session, which the open line joins to that id.
/// </summary>
public static class PageErrors
{
    /// <summary>A short id, easy to read aloud and to grep for.</summary>
    public static string NewId() => Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
}

/// <summary>The page's session: one per circuit (see <see cref="PageErrors"/>).</summary>
public sealed class PageSession
{
    public string Id { get; } = PageErrors.NewId();
}

/// <summary>Logs which circuit each page session is when it opens, and when it loses its connection.</summary>
public sealed class PageSessionLog(PageSession session, ILogger<PageSessionLog> log) : CircuitHandler
{
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        log.LogInformation("Page session {Session} is circuit {CircuitId}", session.Id, circuit.Id);
        return Task.CompletedTask;
    }

    public override Task OnConnectionDownAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        log.LogInformation("Page session {Session} lost its connection (circuit {CircuitId}); it may reconnect", session.Id, circuit.Id);
        return Task.CompletedTask;
    }
}
