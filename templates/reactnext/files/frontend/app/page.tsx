import Image from 'next/image';
import { startup } from '@/lib/startup';
import styles from './page.module.css';

export default function Home() {
  return (
    <main className={styles.main}>
      <Image className={styles.logo} src="/icon.png" alt="" width={64} height={64} priority />
      <h1 className={styles.title}>{startup.displayName}</h1>
      <p className={styles.tagline}>{startup.tagline}</p>
      <dl className={styles.facts}>
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
