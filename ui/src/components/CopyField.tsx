import { useEffect, useState } from 'react';

/** A read-only value with a Copy button that says whether copying worked. */
export function CopyField({ label, value, testId }: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  useEffect(() => {
    if (copied === null) return;
    const timer = setTimeout(() => setCopied(null), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <div className="field">
      <span className="label">{label}</span>
      <div className="copy">
        <code className="copy__value" data-testid={testId}>
          {value}
        </code>
        <button
          className="button button--small"
          onClick={() => {
            navigator.clipboard.writeText(value).then(
              () => setCopied('yes'),
              () => setCopied('failed'),
            );
          }}
          data-testid={`copy-${testId}`}
        >
          {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Copy failed' : 'Copy'}
        </button>
      </div>
    </div>
  );
}
