using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ScalingLedger.Server.Infrastructure;

/// <summary>
/// A request the server could not read is the sender's problem, answered as such wherever it is met, never as a 500: a body past
/// its endpoint's size limit (413), a body cut off or malformed at the transport (400), a JSON body that does not parse or gives
/// a key twice (400). Each names what was wrong.
/// </summary>
public sealed class BadRequestHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancel)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } tooLarge =>
                (StatusCodes.Status413PayloadTooLarge, "The request's body is too large.", tooLarge.Message + " Nothing was stored."),
            BadHttpRequestException bad => (bad.StatusCode, "The request could not be read.", bad.Message),
            JsonException json => (StatusCodes.Status400BadRequest, "The body is not JSON this endpoint reads.", json.Message.Split('\n')[0]),
            _ => (0, "", ""),
        };
        if (status == 0 || context.Response.HasStarted) return false;
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}
