import Image from 'next/image';
import { startup } from '@/lib/startup';

export default function Home() {
  return (
    <main className="main">
      <Image className="logo" src="/icon.png" alt="" width={64} height={64} priority />
      <h1 className="title">{startup.displayName}</h1>
      <p className="tagline">{startup.tagline}</p>
      <dl className="facts">
        <dt>Industry</dt>
        <dd>{startup.industry}</dd>
        <dt>Category</dt>
        <dd>{startup.category}</dd>
        <dt>Founder</dt>
        <dd>{startup.founder}</dd>
      </dl>
    </main>
  );
}
