import { Test } from '@nestjs/testing';
import { LineageController } from './lineage.controller';
import { LineageService } from '../application/lineage.service';

describe('LineageController', () => {
  it('answers its status route', async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [LineageController],
      providers: [LineageService],
    }).compile();
    expect(moduleRef.get(LineageController).status()).toEqual({ slice: 'lineage', status: 'ok' });
  });
});
