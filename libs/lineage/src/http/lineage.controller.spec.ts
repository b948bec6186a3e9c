import { Test } from '@nestjs/testing';
import { LineageController } from './lineage.controller';

describe('LineageController', () => {
  it('answers its status route', async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [LineageController] }).compile();
    expect(moduleRef.get(LineageController).status()).toEqual({ slice: 'lineage', status: 'ok' });
  });
});
