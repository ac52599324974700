using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Hosting;

/// <summary>
/// A request the server could not read is the sender's problem, answered as such wherever it is met, never as a 500: a body past
/// its endpoint's size limit (413), a body cut off or malformed at the transport (400), a JSON body that does not parse or gives
/// a key twice (400), a body or a route or query value that does not bind to what the endpoint takes (400). Each names what was
/// wrong; a body of the wrong shape names its field in <c>errors</c>, as a handler naming a bad field does.
/// </summary>
public sealed class BadRequestHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancel)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } tooLarge =>
                (StatusCodes.Status413PayloadTooLarge, "The request's body is too large.", tooLarge.Message + " Nothing was stored."),
            BadHttpRequestException { InnerException: JsonException json } bad =>
                (StatusCodes.Status400BadRequest, BodyTitle, $"{bad.Message} {FirstLine(json)}"),
            BadHttpRequestException bad => (bad.StatusCode, "The request could not be read.", bad.Message),
            JsonException json => (StatusCodes.Status400BadRequest, BodyTitle, FirstLine(json)),
            _ => (0, "", ""),
        };
        if (status == 0 || context.Response.HasStarted) return false;
        context.Response.StatusCode = status;
        // A body of the wrong shape names its field, as the handlers that read their bodies themselves name theirs.
        var unreadable = exception as JsonException ?? exception.InnerException as JsonException;
        var problem = unreadable is { Path: { Length: > 1 } path }
            ? new HttpValidationProblemDetails(new Dictionary<string, string[]>
            {
                [path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path] = [FirstLine(unreadable).Split(" Path: ")[0]],
            })
            : new ProblemDetails();
        problem.Status = status;
        problem.Title = title;
        problem.Detail = detail;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, Exception = exception, ProblemDetails = problem });
    }

    private const string BodyTitle = "The body is not JSON this endpoint reads.";

    private static string FirstLine(JsonException json) => json.Message.Split('\n')[0];
}
