// Legacy JS SDK (npm langfuse 3.x): stateful client sending /api/public/ingestion batches.
// Scenario and server from the environment (CLIENT_SCENARIO, LANGFUSE_BASEURL, keys); prints one result line.
const { Langfuse } = require("langfuse");

async function main() {
  const s = JSON.parse(process.env.CLIENT_SCENARIO);
  const { root: rootS, span: spanS, generation: genS, event: eventS, scores } = s;
  const langfuse = new Langfuse({
    baseUrl: process.env.LANGFUSE_BASE_URL,
    release: s.release,
    environment: s.environment,
  });
  const projects = await langfuse.api.projectsGet();
  // A prompt record as getPrompt() would return it, without fetching it.
  const prompt = { ...genS.prompt, type: "text", config: {}, labels: ["production"], tags: [], isFallback: false };

  const trace = langfuse.trace({
    name: s.trace_name,
    userId: s.user_id,
    sessionId: s.session_id,
    version: s.version,
    tags: s.tags,
    metadata: s.trace_metadata,
    input: rootS.input,
  });
  const root = trace.span({ name: rootS.name, input: rootS.input, metadata: rootS.metadata });
  const span = root.span({ name: spanS.name, input: spanS.input, metadata: spanS.metadata });
  const generation = span.generation({
    name: genS.name,
    model: genS.model,
    modelParameters: genS.model_parameters,
    input: genS.input,
    metadata: genS.metadata,
    prompt,
  });
  generation.end({ output: genS.output, usageDetails: genS.usage_details });
  generation.score({ name: scores.categorical.name, value: scores.categorical.value, dataType: "CATEGORICAL" });
  span.end({ output: spanS.output, level: spanS.level, statusMessage: spanS.status_message });
  const event = root.event({
    name: eventS.name,
    input: eventS.input,
    output: eventS.output,
    metadata: eventS.metadata,
    level: eventS.level,
    statusMessage: eventS.status_message,
  });
  root.end({ output: rootS.output });
  trace.update({ output: rootS.output });
  trace.score({ name: scores.numeric.name, value: scores.numeric.value, comment: scores.numeric.comment });
  langfuse.score({ traceId: trace.id, name: scores.boolean.name, value: scores.boolean.value, dataType: "BOOLEAN" });
  await langfuse.shutdownAsync();
  const observations = {
    [rootS.name]: root.id,
    [spanS.name]: span.id,
    [genS.name]: generation.id,
    [eventS.name]: event.id,
  };
  const result = { auth_check: projects.data.length > 0, trace_id: trace.id, observations };
  process.stdout.write(`CLIENT-RESULT ${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
