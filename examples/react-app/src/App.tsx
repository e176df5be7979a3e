import { useEffect, useState } from 'react';
import type { CollectionRecord } from '@dramac/components';
import { DmCollectionList } from '@dramac/components/react';
import type { DramacClient } from '@dramac/sdk';
import './app.css';

export function App({ client }: { client: DramacClient | undefined }) {
  const [siteName, setSiteName] = useState<string>();
  const [chosen, setChosen] = useState<CollectionRecord>();
  const [problem, setProblem] = useState<string>();

  // The client init() returned is typed from the OpenAPI documents: the same key, the same API.
  useEffect(() => {
    if (!client) return;
    const controller = new AbortController();
    client
      .GET('/v1/public/site', { signal: controller.signal })
      .then(({ data }) => data && setSiteName(data.name))
      .catch(() => undefined); // aborted on unmount (StrictMode mounts twice in development)
    return () => controller.abort();
  }, [client]);

  if (!client) {
    return (
      <main>
        <h1>Dramac in a React app</h1>
        <p className="error">
          Set <code>VITE_DRAMAC_URL</code> and <code>VITE_DRAMAC_KEY</code> (see README.md), then restart.
        </p>
      </main>
    );
  }

  return (
    <main>
      <h1>Questions{siteName ? ` of ${siteName}` : ''}</h1>
      <div className="columns">
        {/* No apiBase or publishableKey: the element falls back to the connection init() set. */}
        <DmCollectionList
          module="acme.faq"
          collection="questions"
          fields="question,answer"
          label="Questions"
          onDmSelect={(event) => setChosen(event.detail.record)}
          onDmLoad={() => setProblem(undefined)}
          onDmError={(event) => setProblem(event.detail.message)}
        />
        <section aria-live="polite" id="answer">
          {chosen ? (
            <>
              <h2>{String(chosen.question)}</h2>
              <p data-testid="answer">{String(chosen.answer)}</p>
            </>
          ) : (
            <p className="hint">Pick a question.</p>
          )}
        </section>
      </div>
      {problem && <p className="error">Could not load the questions: {problem}</p>}
    </main>
  );
}
