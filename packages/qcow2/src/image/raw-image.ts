// A raw image: the file is the disk. Here so raw disks and backing files sit behind the same Image
// interface as qcow2 ones.
import { imageError } from '../errors.js';
import { ImageFile } from './file.js';
import { type Image, type RawInfo, Serial, checkAccess } from './image.js';

export class RawImage implements Image {
  readonly format = 'raw';
  readonly backing = undefined;
  private readonly serial = new Serial();
  private closed = false;

  private constructor(
    private readonly file: ImageFile,
    readonly readOnly: boolean,
    readonly size: number,
  ) {}

  get path(): string {
    return this.file.path;
  }

  static async open(path: string, readOnly: boolean): Promise<RawImage> {
    const file = await ImageFile.open(path, readOnly);
    return new RawImage(file, readOnly, file.length);
  }

  read(buf: Uint8Array, offset: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      checkAccess(this, 'read', buf, offset);
      const n = await this.file.read(buf, offset);
      buf.fill(0, n); // the file shrank under us: read the missing tail as zeros, as qemu does
    });
  }

  write(buf: Uint8Array, offset: number): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      checkAccess(this, 'write', buf, offset);
      await this.file.write(buf, offset);
    });
  }

  flush(): Promise<void> {
    return this.serial.run(async () => {
      this.checkOpen();
      if (!this.readOnly) await this.file.sync();
    });
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      if (this.closed) return;
      this.closed = true;
      if (!this.readOnly) await this.file.sync();
      await this.file.close();
    });
  }

  info(): RawInfo {
    return { format: 'raw', path: this.path, virtualSize: this.size };
  }

  private checkOpen(): void {
    if (this.closed) throw imageError('EIMG_CLOSED', this.path, 'image is closed');
  }
}
