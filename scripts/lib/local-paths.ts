// Where the local environment (environments/local.yaml) keeps what runs on this machine: the hosts' disks, the
// embedded services' data, the SSH key the hosts accept, and the backup area local.yaml's dr targets name.
import { join } from 'node:path';

export const LOCAL_DIR = '/var/lib/spark-infra/local';
export const LOCAL_HOSTS_DIR = join(LOCAL_DIR, 'hosts');
export const LOCAL_SERVICES_DIR = join(LOCAL_DIR, 'services');
export const LOCAL_BACKUP_DIR = join(LOCAL_DIR, 'backup');
export const LOCAL_SSH_KEY = join(LOCAL_DIR, 'ssh', 'id_ed25519');
