import ms from "ms";

interface HttpEvent {
  pathParameters?: { name?: string };
  requestContext?: { timeEpoch?: number };
}

interface Context {
  awsRequestId: string;
  functionName: string;
  getRemainingTimeInMillis(): number;
}

const started = Date.now();

export const handler = async (event: HttpEvent, context: Context) => {
  const name = event.pathParameters?.name ?? "world";
  const greeting = process.env.GREETING ?? "hello";
  console.log(`greeting ${name}`);
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      message: `${greeting} ${name}`,
      function: context.functionName,
      requestId: context.awsRequestId,
      warmFor: ms(Date.now() - started),
      timeout: ms(context.getRemainingTimeInMillis(), { long: true }),
    }),
  };
};
