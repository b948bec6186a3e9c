import { Test } from '@nestjs/testing';
import { IngestionController } from './ingestion.controller';

describe('IngestionController', () => {
  it('answers its status route', async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [IngestionController] }).compile();
    expect(moduleRef.get(IngestionController).status()).toEqual({ slice: 'ingestion', status: 'ok' });
  });
});
