// JS/TS SDK 5.x: @langfuse/tracing spans exported by @langfuse/otel (OTLP/JSON), scores via @langfuse/client.
// Scenario and server from the environment (CLIENT_SCENARIO, LANGFUSE_BASE_URL, keys); prints one result line.
const { NodeTracerProvider } = require("@opentelemetry/sdk-trace-node");
const { LangfuseSpanProcessor } = require("@langfuse/otel");
const { startActiveObservation, propagateAttributes } = require("@langfuse/tracing");
const { LangfuseClient } = require("@langfuse/client");

async function main() {
  const s = JSON.parse(process.env.CLIENT_SCENARIO);
  const { root: rootS, span: spanS, generation: genS, event: eventS, scores } = s;
  const processor = new LangfuseSpanProcessor({ environment: s.environment, release: s.release });
  const provider = new NodeTracerProvider({ spanProcessors: [processor] });
  provider.register();
  const langfuse = new LangfuseClient();
  const projects = await langfuse.api.projects.get();
  const ids = {};
  let traceId;

  await startActiveObservation(rootS.name, async (root) => {
    traceId = root.traceId;
    ids[rootS.name] = root.id;
    root.update({ input: rootS.input, metadata: rootS.metadata });
    await propagateAttributes(
      {
        userId: s.user_id,
        sessionId: s.session_id,
        tags: s.tags,
        metadata: s.trace_metadata,
        version: s.version,
        traceName: s.trace_name,
      },
      async () => {
        await startActiveObservation(spanS.name, async (span) => {
          ids[spanS.name] = span.id;
          span.update({ input: spanS.input, metadata: spanS.metadata });
          const generation = span.startObservation(
            genS.name,
            {
              model: genS.model,
              modelParameters: genS.model_parameters,
              input: genS.input,
              metadata: genS.metadata,
              prompt: { name: genS.prompt.name, version: genS.prompt.version, isFallback: false },
            },
            { asType: "generation" },
          );
          ids[genS.name] = generation.id;
          generation.update({ output: genS.output, usageDetails: genS.usage_details });
          generation.end();
          langfuse.score.create({
            traceId,
            observationId: generation.id,
            name: scores.categorical.name,
            value: scores.categorical.value,
            dataType: "CATEGORICAL",
          });
          span.update({ output: spanS.output, level: spanS.level, statusMessage: spanS.status_message });
        });
        const event = root.startObservation(
          eventS.name,
          {
            input: eventS.input,
            output: eventS.output,
            metadata: eventS.metadata,
            level: eventS.level,
            statusMessage: eventS.status_message,
          },
          { asType: "event" },
        );
        ids[eventS.name] = event.id;
        root.update({ output: rootS.output });
      },
    );
  });

  langfuse.score.create({
    traceId,
    name: scores.numeric.name,
    value: scores.numeric.value,
    comment: scores.numeric.comment,
  });
  langfuse.score.create({ traceId, name: scores.boolean.name, value: scores.boolean.value, dataType: "BOOLEAN" });
  langfuse.score.create({ sessionId: s.session_id, name: scores.session.name, value: scores.session.value });
  await langfuse.flush();
  await processor.forceFlush();
  await provider.shutdown();
  await langfuse.shutdown();
  const result = { auth_check: projects.data.length > 0, trace_id: traceId, observations: ids };
  process.stdout.write(`CLIENT-RESULT ${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
