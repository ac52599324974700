using Marten.Exceptions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ScalingLedger.Server.Infrastructure;

/// <summary>
/// A read that meets a stored event this version cannot read (see <see cref="LedgerUpgrade"/>, which skips and lists it) says
/// which event, rather than a bare 500: the study's other reads, and every other study, go on as before.
/// </summary>
public sealed class UnreadableEventHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancel)
    {
        if (exception is not EventDeserializationFailureException bad) return false;
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "A stored event cannot be read",
                Detail = $"Event {bad.Sequence} ({bad.EventTypeName}) of the ledger cannot be read by this version of the Server; it is " +
                         "listed under readModel.skipped in /health and left in the store as it is. Reads that do not need it go on.",
            },
        });
    }
}
